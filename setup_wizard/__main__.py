from setup_wizard.cli import main_entry

main_entry()
