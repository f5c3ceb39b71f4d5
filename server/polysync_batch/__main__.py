import sys

from polysync_batch.cli import main

sys.exit(main())
