/* A stand-in for Windows' bcryptprimitives.dll under Wine 8, which lacks it: Rust's
   standard library imports ProcessPrng from it for random numbers, and every Rust program
   stops at start without it. ProcessPrng fills the buffer from SystemFunction036
   (RtlGenRandom), which Wine has. Built by the tests with mingw; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
