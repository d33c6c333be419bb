package dev.basalt.image.initramfs;

/**
 * A kernel module available in an initramfs.
 *
 * @param name the module name as modprobe knows it ({@code -} and {@code _} are equivalent)
 * @param kernelVersion the {@code <kver>} directory it belongs to
 * @param path the loadable module's path ({@code .ko}, {@code .ko.xz}, {@code .ko.zst}, ...) or,
 *     when built in, the path of the {@code modules.builtin} file that lists it
 * @param builtin true when the kernel has it built in rather than as a loadable module
 */
public record KernelModule(String name, String kernelVersion, String path, boolean builtin) {}
