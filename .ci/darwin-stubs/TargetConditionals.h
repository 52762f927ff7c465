/* Stub for the cross clippy check only (.ci/platforms): ring's C code asks which Apple OS it is built for. */
#define TARGET_OS_IPHONE 0
#define TARGET_OS_OSX 1
#define TARGET_OS_MAC 1
