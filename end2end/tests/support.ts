import { expect, Page } from '@playwright/test';
import { adminPassword } from '../playwright.config';

/** Signs in through the form (as the admin unless told otherwise). */
export async function signIn(page: Page, username = 'admin', password = adminPassword) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in as the admin and waits for the signed-in layout. */
export async function signInAsAdmin(page: Page) {
  await signIn(page);
  await expect(page.getByTestId('signed-in-user')).toHaveText('admin');
}

/** Collects script errors, so a page that fails to hydrate fails the test. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return errors;
}
