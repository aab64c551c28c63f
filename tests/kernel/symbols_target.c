// A stack for the symbolization tests: waits for a line on stdin (so the test can
// attach first, knowing the pid), then main → skelgen_outer → skelgen_middle →
// skelgen_inner.  Built with frame pointers, so the kernel can walk the user stack.
#include <stdio.h>

// noipa: each call stays a real call (no inlining, cloning or tail call).
__attribute__((noipa)) int skelgen_inner(int x)
{
	return x * 3;
}

__attribute__((noipa)) int skelgen_middle(int x)
{
	return skelgen_inner(x + 1) + 1;
}

__attribute__((noipa)) int skelgen_outer(int x)
{
	return skelgen_middle(x * 2) - 2;
}

int main(void)
{
	char line[16];

	if (!fgets(line, sizeof(line), stdin))
		return 1;
	printf("%d\n", skelgen_outer(5));
	return 0;
}
