# Copyright: crane.swarm developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip bootstrap script that `ansible-test --venv` downloads.

Its download host is not reachable from our machines (only PyPI is), so
tests/sanity.sh puts this file where ansible-test caches that script. It does
the same job: put pip into the new virtual environment (from the interpreter's
own ensurepip) and install the packages ansible-test asks for from PyPI.
"""

import ensurepip
import os
import subprocess
import sys

# ensurepip points PIP_CONFIG_FILE at /dev/null in this process; the real install
# must see the machine's pip configuration (index, certificates).
environment = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
arguments = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + arguments, env=environment))
