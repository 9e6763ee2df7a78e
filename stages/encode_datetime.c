/* placeholder: being written */
typedef int placeholder_encode_datetime_t;
