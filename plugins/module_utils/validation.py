# -*- coding: utf-8 -*-
# Copyright: meshforge.vpn contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where values are checked before they reach a host or a file.

Every check takes the name of the field it checks, so an error names the field
and the problem.  Checks return the value in its normal form.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import ipaddress
import os
import re
import stat
import unicodedata

# \Z, not $: $ also matches before a trailing newline.  A leading '-' would read as an option to
# wg, ip or wireguard-go ('-f' keeps wireguard-go in the foreground); '.' and '..' are refused by the kernel.
IFNAME_RE = re.compile(r'\A(?!-)(?!\.\.?\Z)[A-Za-z0-9_=+.-]{1,15}\Z')
HOSTNAME_RE = re.compile(r'^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$')
# Characters that could start a new line, section or comment in an INI-like
# config file (wg-quick, swanctl) are refused in free text; that includes the
# C1 controls and the Unicode line and paragraph separators (str.splitlines()
# breaks lines at them).
CONTROL_RE = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029]')
FORBIDDEN_TEXT_RE = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029\[\]{}]')
# Paths reach wg-quick's PostUp lines, which bash evaluates after wg-quick cut them at '#'
# and replaced '%i': only characters that mean nothing to either.
PATH_RE = re.compile(r'\A/[A-Za-z0-9_./@+=,:-]*\Z')


class ValidationError(ValueError):
    """A value that must not reach a host; ``str()`` names the field."""

    def __init__(self, field, problem):
        self.field = field
        self.problem = problem
        super(ValidationError, self).__init__('%s: %s' % (field, problem))


def _text(field, value):
    if not isinstance(value, str):
        raise ValidationError(field, 'expected a string, got %s' % type(value).__name__)
    return value


def interface_name(field, value):
    value = _text(field, value)
    if not IFNAME_RE.match(value):
        raise ValidationError(
            field, '%r is not a valid interface name (1 to 15 characters of letters, digits and _=+.-, '
                   'not starting with -, not . or ..)' % value)
    return value


def name(field, value):
    """A name (host, pool, network) shown in messages and stored one per line: non-empty, on one line."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, 'must be a non-empty string, got %r' % (value,))
    if CONTROL_RE.search(value):
        raise ValidationError(field, '%r contains a control character or line break' % value)
    return value


def free_text(field, value, max_length=255):
    """Text that ends up in a config file as a comment or a value."""
    value = _text(field, value)
    if len(value) > max_length:
        raise ValidationError(field, 'longer than %d characters' % max_length)
    bad = FORBIDDEN_TEXT_RE.search(value)
    if bad:
        raise ValidationError(
            field, '%r contains %r; newlines, control characters and brackets are not allowed' % (value, bad.group()))
    return value


def wireguard_key(field, value):
    """A WireGuard public or preshared key: base64 of exactly 32 bytes."""
    value = _text(field, value).strip()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(field, 'not valid base64')
    if len(raw) != 32 or len(value) != 44:
        raise ValidationError(field, 'must be 32 bytes in base64 (44 characters), got %d bytes' % len(raw))
    return value


def port(field, value, allow_zero=False):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(field, '%r is not a port number' % (value,))
    if isinstance(value, bool) or str(number) != str(value).strip():
        raise ValidationError(field, '%r is not a port number' % (value,))
    low = 0 if allow_zero else 1
    if not low <= number <= 65535:
        raise ValidationError(field, '%d is out of range %d-65535' % (number, low))
    return number


def integer(field, value, low, high):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(field, '%r is not an integer' % (value,))
    if isinstance(value, bool) or not low <= number <= high:
        raise ValidationError(field, '%r is out of range %d-%d' % (value, low, high))
    return number


def network(field, value):
    """A CIDR prefix with no host bits set, e.g. 10.0.0.0/24 or fd10::/64."""
    value = _text(field, value).strip()
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValidationError(field, '%r is not a valid CIDR network (%s)' % (value, exc))


def prefix(field, value):
    """A CIDR prefix as used in allowed IPs; host bits are not allowed either."""
    value = _text(field, value).strip()
    if '/' not in value:
        raise ValidationError(field, '%r is not in CIDR notation (address/prefix length)' % value)
    return network(field, value)


def interface_address(field, value):
    """An address with its prefix length, e.g. 10.0.0.1/24; a bare address gets /32 or /128."""
    value = _text(field, value).strip()
    try:
        iface = ipaddress.ip_interface(value)
    except ValueError as exc:
        raise ValidationError(field, '%r is not a valid address (%s)' % (value, exc))
    if iface.ip == iface.network.network_address and iface.network.prefixlen < iface.max_prefixlen - 1 \
            and iface.version == 4:
        raise ValidationError(field, '%s is the network address of %s' % (iface.ip, iface.network))
    return iface


def address(field, value):
    value = _text(field, value).strip()
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise ValidationError(field, '%r is not an IP address' % value)


def endpoint_host(field, value):
    value = _text(field, value).strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    # a top-level label is never all digits (RFC 3696 2), so 198.18.1.300 is a mistyped address, not a name
    if not HOSTNAME_RE.match(value) or value.rstrip('.').rsplit('.', 1)[-1].isdigit():
        raise ValidationError(field, '%r is neither an IP address nor a DNS name' % value)
    return value


def endpoint(field, value):
    """``host:port``, ``[IPv6]:port`` or ``IPv4:port``; returned normalised."""
    value = _text(field, value).strip()
    match = re.match(r'^\[([^\]]+)\]:([^:]+)$', value)
    if match:
        host, port_text = match.groups()
        try:
            host = str(ipaddress.IPv6Address(host))
        except ValueError:
            raise ValidationError(field, '%r: only IPv6 addresses go inside brackets' % value)
    else:
        if value.count(':') > 1:
            raise ValidationError(field, '%r: write an IPv6 endpoint as [address]:port' % value)
        if ':' not in value:
            raise ValidationError(field, '%r has no port (expected host:port)' % value)
        host, port_text = value.rsplit(':', 1)
        host = endpoint_host(field, host)
    number = port(field, port_text)
    return format_endpoint(host, number)


def format_endpoint(host, port_number):
    if ':' in host:
        return '[%s]:%d' % (host, port_number)
    return '%s:%d' % (host, port_number)


def fwmark(field, value):
    """0 or ``off`` disables; otherwise a 32-bit mark, decimal or 0x hex."""
    if value in (None, 'off', 0, '0'):
        return 0
    try:
        number = int(str(value), 0)
    except ValueError:
        raise ValidationError(field, '%r is not a number or "off"' % (value,))
    if not 0 <= number <= 0xffffffff:
        raise ValidationError(field, '%r is out of range 0-0xffffffff' % (value,))
    return number


def absolute_path(field, value):
    """An absolute path written plainly: no ``.`` or ``..`` component and no empty one, so it names what it says."""
    value = _text(field, value)
    if not PATH_RE.match(value):
        raise ValidationError(field, '%r must be an absolute path of letters, digits and _./@+=,:-' % value)
    parts = value.split('/')[1:]
    if any(part in ('', '.', '..') for part in parts) and value != '/':
        raise ValidationError(field, '%r has an empty, . or .. component; write the path it means plainly' % value)
    return value


def plain_path(field, value):
    """A path on the controller (spaces allowed, relative allowed) with no ``.`` or ``..`` component and no control
    character, so it names the file it says."""
    value = _text(field, value)
    if not value or any(unicodedata.category(char).startswith('C') or char in '\u2028\u2029' for char in value):
        raise ValidationError(field, '%r must be a path without control characters or line breaks' % value)
    if any(part in ('.', '..') for part in value.split('/')[1:]) or value.split('/')[0] == '..':
        raise ValidationError(field, '%r has a . or .. component; write the path it means plainly' % value)
    return value


def host_path(field, value, lstat=os.lstat, euid=None):
    """:func:`absolute_path`, and on this host a path that leads where it says.

    Modules write, read and remove files at these paths as root, so a symbolic link along the way is followed
    only when root (or the user the module runs as) made it in a directory no other user can change (a sticky
    directory such as /tmp counts: others cannot replace a link there); that keeps /var/run -> /run and refuses
    a link someone planted.  The last component must not be a link at all: a file would be written, read or
    removed somewhere else than the path says.
    """
    value = absolute_path(field, value)
    trusted = (0, os.geteuid() if euid is None else euid)
    parts = [part for part in value.split('/') if part]
    current = '/'
    for index, part in enumerate(parts):
        parent, current = current, os.path.join(current, part)
        try:
            info = lstat(current)
        except OSError:
            return value        # the rest does not exist yet: the module creates it
        if not stat.S_ISLNK(info.st_mode):
            continue
        if index == len(parts) - 1:
            raise ValidationError(field, '%s is a symlink; give the path of the file itself' % current)
        directory = lstat(parent)
        writable = directory.st_mode & 0o022 and not directory.st_mode & stat.S_ISVTX
        if info.st_uid not in trusted or directory.st_uid not in trusted or writable:
            raise ValidationError(field, '%s is a symlink that another user could have made or changed '
                                         '(owner uid %d, in %s); give the real path' % (current, info.st_uid, parent))
        current = os.path.realpath(current)
    return value


# Names that become sections of a config file and parts of file names: no dots (so '<name>.secrets.conf'
# never names another section's file), no leading '-' (read as an option by command-line tools).
SECTION_NAME_RE = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z')
# Characters a quoted value in strongSwan's settings syntax (strongswan.conf, swanctl.conf) cannot hold
# without an escape; refused rather than escaped, so what the file says is what the user wrote.
QUOTE_BREAKING_RE = re.compile(r'["\\]')
DURATION_RE = re.compile(r'\A([0-9]+)([smhd]?)\Z')
DURATION_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}


def section_name(field, value):
    """A name used as a config section and in a file name: 1 to 64 letters, digits, '_' and '-'."""
    value = _text(field, value)
    if not SECTION_NAME_RE.match(value):
        raise ValidationError(
            field, '%r is not a valid name (1 to 64 letters, digits, _ and -, starting with a letter or digit)' % value)
    return value


def config_value(field, value, max_length=255):
    """Free text that a config file holds as a double-quoted value: free_text, and no quote, backslash or edge blanks."""
    value = free_text(field, value, max_length)
    if not value or value != value.strip():
        raise ValidationError(field, '%r is empty or starts or ends with a blank' % value)
    bad = QUOTE_BREAKING_RE.search(value)
    if bad:
        raise ValidationError(field, '%r contains %r; double quotes and backslashes are not allowed' % (value, bad.group()))
    return value


def secret(field, value, min_length=1, max_length=1024):
    """A secret such as a pre-shared key.  Errors never repeat the value, only what is wrong with it."""
    if not isinstance(value, str):
        raise ValidationError(field, 'expected a string')
    if len(value) < min_length:
        raise ValidationError(field, 'is %d characters long; at least %d are required' % (len(value), min_length))
    if len(value) > max_length:
        raise ValidationError(field, 'is longer than %d characters' % max_length)
    if CONTROL_RE.search(value):
        raise ValidationError(field, 'contains a control character or line break')
    return value


def duration(field, value, low=0, high=10 * 365 * 86400):
    """A time span in seconds: an integer, or digits with an s, m, h or d suffix ('30s', '4h'); returns seconds."""
    if isinstance(value, bool):
        raise ValidationError(field, '%r is not a duration' % (value,))
    match = DURATION_RE.match(str(value).strip()) if isinstance(value, (int, str)) else None
    if not match:
        raise ValidationError(field, '%r is not a duration (seconds, or a number with s, m, h or d)' % (value,))
    seconds = int(match.group(1)) * DURATION_UNITS[match.group(2)]
    if not low <= seconds <= high:
        raise ValidationError(field, '%r is out of range %d-%d seconds' % (value, low, high))
    return seconds


# nftables identifiers as nft's scanner reads them; kept to what needs no quoting in any position.
NFT_IDENTIFIER_RE = re.compile(r'\A[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z')
# Raw nftables rule text stays inside one "add rule" command: no second command (';' or a line break), no
# comment hiding the rest ('#'), no escape; braces only in balanced pairs (anonymous sets).
NFT_RULE_FORBIDDEN_RE = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029;#\\]')
NFT_RULE_COMMENT_RE = re.compile(r'(^|\s)comment(\s|$)')


def nft_identifier(field, value):
    """A table, chain or set name: a letter or _, then up to 63 letters, digits and _.-"""
    value = _text(field, value)
    if not NFT_IDENTIFIER_RE.match(value):
        raise ValidationError(field, '%r is not an nftables name (a letter or _, then letters, digits and _.-, '
                                     'at most 64 characters)' % value)
    return value


def nft_rule_text(field, value, max_length=1024):
    """Raw nftables rule text (the part after ``add rule FAMILY TABLE CHAIN``), on one line; nft --check judges the rest."""
    value = _text(field, value)
    if not value.strip():
        raise ValidationError(field, 'is empty')
    if len(value) > max_length:
        raise ValidationError(field, 'longer than %d characters' % max_length)
    bad = NFT_RULE_FORBIDDEN_RE.search(value)
    if bad:
        raise ValidationError(field, '%r contains %r; a rule is one line without ; # or backslash' % (value, bad.group()))
    depth = 0
    for char in value:
        depth += {'{': 1, '}': -1}.get(char, 0)
        if depth < 0:
            raise ValidationError(field, '%r closes a brace it did not open' % value)
    if depth:
        raise ValidationError(field, '%r leaves a brace open' % value)
    if value.count('"') % 2:
        raise ValidationError(field, '%r leaves a quote open' % value)
    if NFT_RULE_COMMENT_RE.search(value):
        raise ValidationError(field, 'give a comment in the comment field, not in the rule text')
    return ' '.join(value.split())


def known_options(field, raw, known):
    """Refuse options of ``raw`` that are not in ``known`` (keys starting with _ are Ansible's own)."""
    unknown = sorted(set(k for k in raw if not str(k).startswith('_')) - set(known))
    if unknown:
        raise ValidationError(field, 'unknown option%s %s (known: %s)' % (
            's' if len(unknown) > 1 else '', ', '.join(unknown), ', '.join(sorted(known))))
