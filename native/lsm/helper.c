/* cordon-lsm-helper: a process whose executable lives on cordon's FUSE file system, so that the BPF LSM programs
 * can reach that file system through it (bpf_get_task_exe_file, then bpf_get_file_xattr). It does nothing but
 * wait to be killed. No libc: a static program of a few hundred bytes that cordon serves from memory. */
void _start(void)
{
	for (;;)
		__asm__ volatile("syscall" : : "a"(34) /* pause */ : "rcx", "r11", "memory");
}
