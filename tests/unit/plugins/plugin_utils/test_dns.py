# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError
from ansible_collections.meshforge.vpn.plugins.plugin_utils import dns

LEDGER = {'mesh4': {'alpha': '10.99.0.1', 'beta': '10.99.0.2'},
          'mesh6': {'alpha': 'fd00:99::1', 'beta': 'fd00:99::2'}}


def test_every_ledger_address_gets_a_name_v4_and_v6():
    records = dns.mesh_records('Mesh.Example.', LEDGER)
    assert dns.hosts_text(records) == ('10.99.0.1 alpha.mesh.example\nfd00:99::1 alpha.mesh.example\n'
                                       '10.99.0.2 beta.mesh.example\nfd00:99::2 beta.mesh.example\n')


def test_extra_records_alias_and_address():
    records = dns.mesh_records('mesh.example', LEDGER, [{'name': 'www', 'target': 'beta'},
                                                        {'name': 'db.svc.mesh.example', 'address': '10.99.0.9'}])
    text = dns.hosts_text(records)
    assert '10.99.0.2 www.mesh.example\nfd00:99::2 www.mesh.example\n' in text
    assert '10.99.0.9 db.svc.mesh.example\n' in text


def test_rendering_is_stable():
    assert dns.hosts_text(dns.mesh_records('m.x', LEDGER)) == dns.hosts_text(dns.mesh_records('m.x', dict(
        reversed(list(LEDGER.items())))))


@pytest.mark.parametrize('value', ['', 'a..b', '-a.b', 'a-.b', 'a b', 'a\nb', 'mesh\n', 'x' * 64 + '.b', 5])
def test_bad_domain_names_the_field(value):
    with pytest.raises(ValidationError) as caught:
        dns.mesh_records(value, LEDGER)
    assert str(caught.value).startswith('wireguard_mesh_dns_domain: ')


def test_record_colliding_with_a_member_is_refused():
    with pytest.raises(ValidationError) as caught:
        dns.mesh_records('mesh.example', LEDGER, [{'name': 'alpha', 'address': '10.99.0.9'}])
    assert str(caught.value).startswith('wireguard_mesh_dns_records[0].name: alpha.mesh.example is the name of a member')


@pytest.mark.parametrize('entry,field', [
    ({'name': 'x', 'address': 'nope'}, 'wireguard_mesh_dns_records[0].address'),
    ({'name': 'x', 'target': 'gamma'}, 'wireguard_mesh_dns_records[0].target'),
    ({'name': 'x'}, 'wireguard_mesh_dns_records[0]'),
    ({'name': 'x', 'address': '10.0.0.1', 'ttl': 5}, 'wireguard_mesh_dns_records[0]'),
])
def test_bad_records_name_the_field(entry, field):
    with pytest.raises(ValidationError) as caught:
        dns.mesh_records('mesh.example', LEDGER, [entry])
    assert caught.value.field == field


def test_nameserver_groups_normalised():
    groups = dns.nameserver_groups([
        {'name': 'lan', 'nameservers': ['192.168.50.53'], 'domains': ['Corp.Example'], 'groups': ['mesh']},
        {'name': 'default', 'nameservers': ['9.9.9.9', '2620:fe::fe'], 'primary': True,
         'search_domains': ['mesh.example']}])
    assert groups[0] == {'name': 'lan', 'nameservers': ['192.168.50.53'], 'domains': ['corp.example'],
                         'search_domains': [], 'primary': False, 'groups': ['mesh']}
    assert groups[1]['primary'] and groups[1]['nameservers'] == ['9.9.9.9', '2620:fe::fe']


@pytest.mark.parametrize('entry,field', [
    ({'name': 'g', 'nameservers': ['dns.example'], 'domains': ['a.b']},
     'wireguard_mesh_dns_nameserver_groups[0].nameservers[0]'),
    ({'name': 'g', 'nameservers': ['10.0.0.53'], 'domains': ['corp.example\nserver=1.2.3.4']},
     'wireguard_mesh_dns_nameserver_groups[0].domains[0]'),
    ({'name': 'g', 'nameservers': [], 'domains': ['a.b']}, 'wireguard_mesh_dns_nameserver_groups[0].nameservers'),
    ({'name': 'g', 'nameservers': ['10.0.0.53']}, 'wireguard_mesh_dns_nameserver_groups[0].domains'),
    ({'name': 'g', 'nameservers': ['10.0.0.53'], 'primary': 'yes'}, 'wireguard_mesh_dns_nameserver_groups[0].primary'),
])
def test_bad_nameserver_groups_name_the_field(entry, field):
    with pytest.raises(ValidationError) as caught:
        dns.nameserver_groups([entry])
    assert caught.value.field == field
    assert str(caught.value).startswith(field + ': ')


PLANS = {'alpha': {'addresses': ['10.99.0.1/24', 'fd00:99::1/64']}, 'beta': {'addresses': ['10.99.0.2/24']}}


def test_plan_renders_once_and_gives_each_member_its_resolver():
    groups = [{'name': 'office', 'nameservers': ['10.1.2.3'], 'domains': ['corp.example'], 'groups': ['branch']},
              {'name': 'all', 'nameservers': ['10.1.2.4'], 'domains': ['svc.example'], 'search_domains': ['svc.example']}]
    found = dns.plan(['alpha', 'beta'], {'domain': 'mesh.example', 'stub_address': '127.0.88.53', 'resolvers': ['alpha'],
                                         'nameserver_groups': groups, 'ledger': {'phone': ['10.99.0.9']}},
                     PLANS, {'branch': ['beta']})
    assert found['hosts'] == ('10.99.0.1 alpha.mesh.example\nfd00:99::1 alpha.mesh.example\n'
                              '10.99.0.2 beta.mesh.example\n10.99.0.9 phone.mesh.example\n')
    assert found['records'] == 4
    alpha, beta = found['members']['alpha'], found['members']['beta']
    assert alpha['listen'] == ['127.0.88.53', '10.99.0.1', 'fd00:99::1'] and beta['listen'] == ['127.0.88.53']
    assert alpha['forward'] == [{'domains': ['svc.example'], 'nameservers': ['10.1.2.4']}]
    assert beta['forward'][0] == {'domains': ['corp.example'], 'nameservers': ['10.1.2.3']} and len(beta['forward']) == 2
    assert alpha['search_domains'] == ['svc.example'] and alpha['upstream'] is None


def test_plan_primary_group_is_the_upstream():
    found = dns.plan(['alpha'], {'domain': 'm.x', 'stub_address': '127.0.0.53', 'upstream': ['192.0.2.53'],
                                 'nameserver_groups': [{'name': 'p', 'nameservers': ['10.9.9.9'], 'primary': True}]},
                     PLANS)
    assert found['members']['alpha']['upstream'] == ['10.9.9.9'] and found['members']['alpha']['forward'] == []
    # where systemd-resolved runs the member's link is then the default route (~.): every name reaches the primary
    assert found['members']['alpha']['default_route'] is True
    split = dns.plan(['alpha'], {'domain': 'm.x', 'stub_address': '127.0.0.53',
                                 'nameserver_groups': [{'name': 'o', 'nameservers': ['10.9.9.9'], 'domains': ['c.x']}]},
                     PLANS)
    assert split['members']['alpha']['default_route'] is False


@pytest.mark.parametrize('settings, field', [
    ({'domain': 'mesh\nexample'}, 'mesh_dns_domain'),
    ({'records': [{'name': 'alpha', 'address': '10.0.0.1'}]}, 'mesh_dns_records[0].name'),
    ({'nameserver_groups': [{'name': 'g', 'nameservers': ['office'], 'domains': ['c.x']}]},
     'mesh_dns_nameserver_groups[0].nameservers[0]'),
    ({'nameserver_groups': [{'name': 'g', 'nameservers': ['10.0.0.1'], 'domains': ['c.x\nserver=1.1.1.1']}]},
     'mesh_dns_nameserver_groups[0].domains[0]'),
    ({'resolvers': ['gamma']}, 'mesh_dns_resolvers[0]'),
    ({'stub_address': 'localhost'}, 'mesh_dns_stub_address'),
    ({'upstream': ['8.8.8.8:53']}, 'mesh_dns_upstream[0]'),
])
def test_plan_refuses_naming_the_variable(settings, field):
    with pytest.raises(ValidationError) as caught:
        dns.plan(['alpha', 'beta'], dict({'domain': 'mesh.example', 'stub_address': '127.0.0.53'}, **settings), PLANS)
    assert str(caught.value).startswith(field + ': ')


def test_view_compares_what_getent_says_with_the_records():
    hosts = '10.99.0.1 alpha.mesh.example\nfd00:99::1 alpha.mesh.example\n10.99.0.2 beta.mesh.example\n10.99.0.3 gamma.mesh.example\n'
    getent = ('fd00:99::1      STREAM alpha.mesh.example\nfd00:99::1      DGRAM  \nfd00:99::1      RAW    \n'
              '10.99.0.1       STREAM \n10.99.0.1       DGRAM  \n10.99.0.1       RAW    \n'
              '10.99.0.9       STREAM beta.mesh.example\n10.99.0.9       DGRAM  \n')
    found = dns.view(getent, hosts)
    assert [(v['name'], v['ok']) for v in found] == [('alpha.mesh.example', True), ('beta.mesh.example', False),
                                                     ('gamma.mesh.example', False)]
    assert found[1]['got'] == ['10.99.0.9'] and found[1]['expected'] == ['10.99.0.2'] and found[2]['got'] == []
