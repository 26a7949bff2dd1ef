import { defineConfig } from '@playwright/test';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const port = Number(process.env.E2E_PORT ?? 3107);
const bin = process.env.VARAI_BIN ?? path.join(root, 'target/release/varai');
const dataDir = path.join(root, 'target/e2e-data');

export const adminPassword = 'e2e-admin-password-1234';
export const baseURL = `http://127.0.0.1:${port}`;

export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [['list']],
  outputDir: path.join(root, 'target/e2e-results'),
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: {
    // A fresh database for every run, so the first admin is the one these tests expect.
    command: `rm -rf '${dataDir}' && exec '${bin}' --addr 127.0.0.1:${port} --data-dir '${dataDir}'`,
    cwd: root,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      VARAI_ADMIN_PASSWORD: adminPassword,
      LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
      RUST_LOG: 'warn',
      // Quick sandbox pods, and the sandbox's kubectl port wherever the system has room.
      VARAI_SANDBOX_POD_READY_MS: '300',
      VARAI_SANDBOX_ADDR: '127.0.0.1:0',
    },
  },
});
