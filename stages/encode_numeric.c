/* placeholder: being written */
typedef int placeholder_encode_numeric_t;
