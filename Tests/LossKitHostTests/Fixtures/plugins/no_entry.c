/* Exercises: a valid shared library that does not export losskit_plugin_entry. */
int losskit_fixture_not_a_plugin(void) { return 42; }
