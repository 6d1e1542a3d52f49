/* A library whose entry function faults: stands for a damaged or broken plugin file, which the
 * loader cannot judge from its headers. Loading it must leave a LossKit line naming the file. */
#include "losskit.h"

LK_EXPORT const lk_plugin_list *losskit_plugin_entry(uint16_t host_major, uint16_t host_minor) {
    (void)host_major; (void)host_minor;
    return *(const lk_plugin_list *volatile *)0;
}
