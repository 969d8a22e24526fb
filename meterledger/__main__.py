from meterledger.cli import main

raise SystemExit(main())
