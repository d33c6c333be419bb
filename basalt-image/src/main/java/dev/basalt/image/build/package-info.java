/**
 * {@code basalt image build}: a declarative OS image from a YAML spec ({@link dev.basalt.image.build.BuildSpec},
 * schema {@code examples/os.schema.json}) on top of a bootable base, pinned by a lock file
 * ({@link dev.basalt.image.build.BuildLock}) and built reproducibly and incrementally by
 * {@link dev.basalt.image.build.ImageBuilder}.
 */
package dev.basalt.image.build;
