"""What a person sees: screens drawn into a StringIO, the in-process wizard walk, the real program in a
pseudo-terminal (pexpect), and a newcomer's screens (true, said once, within the terminal's width)."""
