package org.changeq.tracker;

/**
 * What a path is right now: the file system ({@code st_dev}), the inode on it, and the mount it was reached
 * through. A root whose identity changes was replaced: another directory renamed into its place, or a file
 * system mounted over it or unmounted from under it. The mount ID also tells a file system unmounted and mounted
 * again, which keeps its device number and its root inode.
 *
 * @param mountId the kernel's mount ID, or 0 where the kernel does not report one
 */
record FileIdentity(long device, long inode, long mountId, boolean directory) {
}
