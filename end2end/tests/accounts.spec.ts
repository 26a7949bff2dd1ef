import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { adminPassword } from '../playwright.config';
import { signIn, watchErrors } from './support';

const devPassword = 'dana-password-1234';

test('an admin creates a developer, who then cannot open user administration', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin', adminPassword);
  await expect(page.getByTestId('signed-in-user')).toHaveText('admin');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: /Users/ }).click();
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');

  await page.getByLabel('Username').fill('dana');
  await page.getByLabel('Initial password').fill(devPassword);
  await page.getByLabel('Role', { exact: true }).selectOption('developer');
  await page.getByRole('button', { name: 'Create user' }).click();
  // The confirmation comes from the hydrated page's action, without a reload.
  await expect(page.getByRole('status')).toContainText('Created dana as Developer');
  await expect(page.getByRole('row', { name: /dana/ })).toContainText('Developer');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?notice=signed_out$/);

  await signIn(page, 'dana', devPassword);
  await expect(page.getByTestId('signed-in-user')).toHaveText('dana');
  await expect(page.getByText('Developer').first()).toBeVisible();

  await page.goto('/settings');
  await expect(page.getByRole('link', { name: /Your account/ })).toBeVisible();
  await expect(page.getByRole('link', { name: /Users/ })).toHaveCount(0);

  await page.goto('/settings/users');
  await expect(page.getByRole('alert')).toContainText('this needs the admin role; you have developer');
  await expect(page.getByRole('table', { name: 'Users' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Create user' })).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the audit log shows who did what, filterable by user', async ({ page }) => {
  await signIn(page, 'admin', adminPassword);
  await page.goto('/audit');
  const created = page.getByRole('row', { name: /user\.create.*user:dana/ });
  await expect(created).toContainText('admin');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Who acted').selectOption('dana');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/actor=dana/);
  await expect(page.getByRole('row', { name: /session\.login/ }).first()).toBeVisible();
  await expect(page.getByRole('row', { name: /user\.create/ })).toHaveCount(0);
});

test('an admin changes a role and disables an account, which can then no longer sign in', async ({ page }) => {
  await signIn(page, 'admin', adminPassword);
  await page.goto('/settings/users');
  await page.waitForLoadState('networkidle');
  const row = page.getByRole('row', { name: /dana/ });
  await row.getByLabel('Role for dana').selectOption('operator');
  await row.getByRole('button', { name: 'Save role' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Role changed.' })).toBeVisible();
  await expect(page.getByRole('row', { name: /dana/ })).toContainText('Operator');

  await page.getByRole('button', { name: 'Disable dana' }).click();
  await expect(page.getByRole('row', { name: /dana/ })).toContainText('Disabled');
  await expect(page.getByRole('button', { name: 'Enable dana' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'dana', devPassword);
  await expect(page.getByRole('alert')).toContainText('Wrong username or password, or the account is disabled');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('signing in and out works', async ({ page }) => {
    await signIn(page, 'admin', adminPassword);
    await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
    await expect(page.getByText('Signed in as admin')).toBeVisible();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('status')).toContainText('You have signed out');
  });

  test('a wrong password says so on the form', async ({ page }) => {
    await signIn(page, 'nobody', 'not-a-real-password');
    await expect(page).toHaveURL(/\/login\?error=invalid/);
    await expect(page.getByRole('alert')).toContainText('Wrong username or password');
  });
});

test('sign-in and overview have no serious accessibility problems', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const url of ['/login']) {
    await page.goto(url);
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  }
  await signIn(page, 'admin', adminPassword);
  for (const url of ['/', '/settings/users', '/settings/tokens', '/audit']) {
    await page.goto(url);
    await page.waitForLoadState('networkidle');
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${url} ${v.id}: ${v.help}`)).toEqual([]);
  }
  await context.close();
});
