// Force-included (-include) into every file of the portable build (GRADFORGE_STATIC_RUNTIME,
// what npm run prebuild makes). glibc 2.27 and 2.29 gave expf/logf/powf and exp/log/pow new
// symbol versions (new implementations without the old SVID error handling); a binary linked
// against a newer glibc then refuses to load on an older one. Binding to the original
// versions, which every glibc still exports, keeps the prebuilt addon loadable on glibc 2.18+
// (RHEL 8, Amazon Linux 2, Ubuntu 18.04, Debian 10). On a current glibc those versions run
// the same code plus errno handling, which -fno-math-errno callers never read.
// It is not: for source builds (npx gradforge build), which link against the glibc they run on.
#pragma once
#if defined(__linux__) && defined(__x86_64__)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
__asm__(".symver expf,expf@GLIBC_2.2.5");
__asm__(".symver logf,logf@GLIBC_2.2.5");
__asm__(".symver powf,powf@GLIBC_2.2.5");
#endif
