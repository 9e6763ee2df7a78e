/* placeholder: being written */
typedef int placeholder_load_t;
