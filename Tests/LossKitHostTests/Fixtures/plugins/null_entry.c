/* Exercises: an entry that returns NULL (the plugin declines to serve this host). */
#include "losskit.h"

const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_major; (void)host_minor;
    return NULL;
}
