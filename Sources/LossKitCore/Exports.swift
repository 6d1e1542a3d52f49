// The engine's threads (`Threads`, `parallelFor`) and the kernels' shared types live in
// LossKitKernelSupport, below the kernel builds; they are part of the engine's interface.
@_exported import LossKitKernelSupport
