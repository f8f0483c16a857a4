/* A shared object that is not a polyhost plugin: no polyhost_plugin_entry. */
__attribute__((visibility("default"))) int not_a_plugin(void) { return 42; }
