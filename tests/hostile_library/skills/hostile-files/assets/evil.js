window.__pwned = 56;
