/* placeholder: being written */
typedef int placeholder_gen_t;
