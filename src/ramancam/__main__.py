import sys

from ramancam.cli import main

sys.exit(main())
