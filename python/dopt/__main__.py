"""``python -m dopt ...`` runs the dopt executable (see dopt.main)."""
import sys

from dopt import main

sys.exit(main())
