/* placeholder: being written */
typedef int placeholder_utf8_t;
