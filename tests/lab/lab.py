"""meshforge.vpn network-namespace test lab (Python 3 standard library only, run as root).

One "underlay" namespace holds a bridge; every host is a namespace joined to it by
a veth and runs its own sshd; the root namespace (the Ansible controller) is joined
to the bridge too.  Optional LAN namespaces sit behind a host.  See README.md.

  lab.py up --lab NAME --hosts h1,h2,h3 [--lan h3] [--group hubs=h1] [--index N]
            [--sysctl [NS:]KEY=VALUE]
  lab.py down --lab NAME            lab.py down-all
  lab.py inventory --lab NAME [--cat]
  lab.py exec --lab NAME HOST -- CMD...
  lab.py list                       lab.py selftest
"""
# The lab's code is the package meshlab/ beside this file (one module per concern: common, state, kernel, access,
# bringup, teardown, commands, selftest); this file is its command line, as every caller runs it.

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from meshlab.commands import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
