"""`manage.py seed_demo`: the demo data of `make run`. At the top of the layers, beside bench/,
since it seeds every app; each app's own step lives in its demo.py."""
