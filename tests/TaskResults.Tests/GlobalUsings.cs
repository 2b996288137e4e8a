global using TaskResults.Contracts;
global using TaskResults.Tests.Support;
