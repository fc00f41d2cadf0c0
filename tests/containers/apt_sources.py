"""Read this machine's apt sources for the container image (standard library only).

    python3 apt_sources.py mirror SUITE      the Debian mirror that serves SUITE/main (for debootstrap)
    python3 apt_sources.py sources SUITE     the entries for SUITE, SUITE-updates and SUITE-security,
                                             as one deb822 file for the image

Only entries of the Debian suites are kept: a third-party repository of the
machine (its key is not in the image) would make apt-get update fail there.
"""
import glob
import sys


def entries():
    """(uri, suites, components, signed_by) of every enabled 'deb' source of this machine."""
    found = []
    for path in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split('#', 1)[0].split()
            if not words or words[0] != 'deb':
                continue
            words = words[1:]
            signed_by = ''
            if words and words[0].startswith('['):
                options = []
                while words:
                    word = words.pop(0)
                    options.append(word.strip('[]'))
                    if word.endswith(']'):
                        break
                signed_by = ' '.join(o.split('=', 1)[1] for o in options if o.startswith('signed-by='))
            if len(words) >= 3:
                found.append((words[0], [words[1]], words[2:], signed_by))
    for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
        try:
            text = open(path).read()
        except OSError:
            continue
        for stanza in text.split('\n\n'):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith('#') or ':' not in line or line[:1].isspace():
                    continue
                key, value = line.split(':', 1)
                fields[key.strip().lower()] = value.strip()
            if 'deb' not in fields.get('types', '').split() or fields.get('enabled', 'yes').lower() == 'no':
                continue
            for uri in fields.get('uris', '').split():
                found.append((uri, fields.get('suites', '').split(), fields.get('components', '').split(),
                              fields.get('signed-by', '')))
    return found


def main(argv):
    command, suite = argv[1], argv[2]
    wanted = (suite, suite + '-updates', suite + '-security')
    if command == 'mirror':
        for entry in entries():
            if suite in entry[1] and 'main' in entry[2]:
                print(entry[0])
                return 0
        sys.stderr.write('apt_sources.py: no apt source of this machine serves %s main\n' % suite)
        return 1
    out = []
    for uri, suites, components, signed_by in entries():
        suites = [s for s in suites if s in wanted]
        if not suites:
            continue
        out.append('Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\n' % (uri, ' '.join(suites), ' '.join(components)))
        if signed_by.startswith('/usr/share/keyrings/debian-archive-'):
            out[-1] += 'Signed-By: %s\n' % signed_by
    if not out:
        sys.stderr.write('apt_sources.py: no apt source of this machine serves %s\n' % suite)
        return 1
    sys.stdout.write('\n'.join(out))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
