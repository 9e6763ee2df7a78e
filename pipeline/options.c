/* placeholder: being written */
typedef int placeholder_options_t;
