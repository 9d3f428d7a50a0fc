// Whole-stack evaluations, helm renders and trainer runs take seconds each on a quiet 2-core machine and
// several times that while another build uses both cores: jest's 5 s default fails them there. Suites
// with longer work set their own, larger timeouts.
jest.setTimeout(120_000);
