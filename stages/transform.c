/* placeholder: being written */
typedef int placeholder_transform_t;
