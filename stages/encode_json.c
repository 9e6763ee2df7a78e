/* placeholder: being written */
typedef int placeholder_encode_json_t;
