import gc
import sys

gc.disable()  # before the first import, for the reason main_entry gives

try:
    from setup_wizard.cli import main_entry
except KeyboardInterrupt:  # Ctrl+C while the program was still loading: the same quiet 130 as later
    sys.exit(130)

main_entry()
