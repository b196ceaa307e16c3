"""`python -m supalink`."""

import sys

from supalink.cli import main

if __name__ == "__main__":
    sys.exit(main())
