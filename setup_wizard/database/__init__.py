"""The database: connecting and classifying failures, migrations, the contract, verification."""
