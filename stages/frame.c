/* placeholder: being written */
typedef int placeholder_frame_t;
