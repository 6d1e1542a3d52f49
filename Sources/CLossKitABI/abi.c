int losskit_abi_anchor(void) { return 1; }
