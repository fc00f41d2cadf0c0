# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS names and the hosts text, checked: shared by the controller's records (plugin_utils/dns.py) and the
resolver on the host (dns_resolver), so nothing that reaches a resolver's file can carry a second line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.meshforge.vpn.plugins.module_utils.validation import ValidationError

LABEL = re.compile(r'(?!-)[a-z0-9-]{1,63}(?<!-)')


def domain(field, value):
    """A DNS name in lower case without the final dot: letters, digits and hyphens, labels 1 to 63, 253 in all."""
    if not isinstance(value, str):
        raise ValidationError(field, 'expected a string, got %s' % type(value).__name__)
    text = value.lower()
    if text.endswith('.'):
        text = text[:-1]
    labels = text.split('.')
    if not text or len(text) > 253 or not all(LABEL.fullmatch(label) for label in labels):
        raise ValidationError(field, '%r is not a DNS name: labels of 1 to 63 letters, digits and hyphens (not at '
                                     'either end), joined by dots, 253 characters at most' % (value,))
    return text


def label(field, value):
    if not isinstance(value, str) or not LABEL.fullmatch(value.lower()):
        raise ValidationError(field, '%r is not a DNS label: 1 to 63 letters, digits and hyphens, not at either end'
                              % (value,))
    return value.lower()


def hosts_text(field, text):
    """A hosts file text (``address name...`` per line), every address and name checked; returned unchanged."""
    if not isinstance(text, str):
        raise ValidationError(field, 'expected a string, got %s' % type(text).__name__)
    if text and not text.endswith('\n'):
        raise ValidationError(field, 'must end with a newline')
    for number, line in enumerate(text.split('\n')[:-1], 1):
        words = line.split(' ')
        try:
            ipaddress.ip_address(words[0])
        except ValueError:
            raise ValidationError(field, 'line %d: %r does not start with an IP address' % (number, line))
        if len(words) < 2:
            raise ValidationError(field, 'line %d: %r names no host' % (number, line))
        for word in words[1:]:
            domain('%s (line %d)' % (field, number), word)
    return text
