#!/usr/bin/env node
/**
 * The dashboard's browser test drives Debian's Chromium (npm packages that download their own
 * browser cannot reach their servers here). Installs it with apt when missing and allowed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    console.error(
      `no Chromium at ${path}: install Debian's package (sudo apt-get install chromium) or set CHROMIUM_PATH`,
    );
    process.exit(1);
  }
  console.error("[test] installing Debian's chromium for the dashboard test (once)...");
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
