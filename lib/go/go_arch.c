// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* The architectures libgoprof knows, and the check that a session's executable is ours. */
#include <elf.h>
#include <stdio.h>

#include "go/go_arch.h"

const char *gp_machine_name(uint16_t machine)
{
	static _Thread_local char other[32];

	switch (machine) {
	case EM_X86_64:
		return "x86-64 (amd64)";
	case EM_AARCH64:
		return "arm64 (aarch64)";
	case EM_386:
		return "x86 (386)";
	case EM_ARM:
		return "32-bit ARM (arm)";
	default:
		snprintf(other, sizeof(other), "ELF machine %u", (unsigned)machine);
		return other;
	}
}

int gp_check_machine(const char *what, const char *path, const unsigned char *hdr, size_t n)
{
	uint16_t machine;

	if (n < 20 || memcmp(hdr, ELFMAG, SELFMAG))
		return 0;
	machine = hdr[EI_DATA] == ELFDATA2MSB ? (uint16_t)(hdr[18] << 8 | hdr[19])
					      : (uint16_t)(hdr[19] << 8 | hdr[18]);
	if (machine == GP_HOST_MACHINE && hdr[EI_CLASS] == ELFCLASS64)
		return 0;
	if (machine == GP_HOST_MACHINE)
		return gp_err(-ENOEXEC, "%s: %s is a 32-bit %s executable; libgoprof profiles 64-bit "
			      "processes only", what, path, gp_machine_name(machine));
	return gp_err(-ENOEXEC, "%s: %s is an executable for %s, and this libgoprof profiles %s "
		      "processes: profile it with a libgoprof built for its architecture, on such "
		      "a machine", what, path, gp_machine_name(machine),
		      gp_machine_name(GP_HOST_MACHINE));
}
