/* placeholder: being written */
typedef int placeholder_rejects_t;
