// A uprobe target for the attach tests: waits for a line on stdin (so the test can
// attach first, knowing the pid), then calls skelgen_target_add(a + i, b) n times
// and skelgen_target_neg() twice.
#include <stdio.h>
#include <stdlib.h>

// noipa: no inlining, cloning or constant propagation may hide the call or its arguments.
__attribute__((noipa)) int skelgen_target_add(int a, int b)
{
	return 2 * a + b;
}

// A second function for multi-uprobe patterns (skelgen_target_*).
__attribute__((noipa)) int skelgen_target_neg(int a)
{
	return -a;
}

int main(int argc, char **argv)
{
	char line[16];
	int a, b, n, sum = 0;

	if (argc != 4)
		return 2;
	a = atoi(argv[1]);
	b = atoi(argv[2]);
	n = atoi(argv[3]);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < n; i++)
		sum += skelgen_target_add(a + i, b);
	sum += skelgen_target_neg(skelgen_target_neg(0));
	printf("%d\n", sum);
	return 0;
}
