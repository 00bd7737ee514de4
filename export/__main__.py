import sys

from export.export import main

sys.exit(main())
