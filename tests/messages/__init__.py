"""The texts themselves: every sentence is Korean, and the failure codes the program can emit, the
catalogue and README.ko.md's table of codes agree."""
