from origin.cli.main import main

raise SystemExit(main())
