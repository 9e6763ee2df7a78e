/* placeholder: being written */
typedef int placeholder_ring_t;
