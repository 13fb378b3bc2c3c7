// Defines the one GLIBCXX_3.4.32 symbol that TorchSharp's prebuilt libLibTorchSharp.so uses,
// std::ios_base_library_init(), for systems whose libstdc++ is older (Debian 12 stops at 3.4.30).
// GCC 13 emits a call to it from every translation unit that includes <iostream>; all it has to do is
// make sure the standard streams are constructed, which a static ios_base::Init does.
#include <ios>

namespace std
{
    void ios_base_library_init()
    {
        static ios_base::Init streams;
    }
}
