// Placeholder: the staff page is being built (issue 13).
import { h, heading } from '../ui.js';

export default {
  id: 'staff',
  path: '#/staff',
  nav: 'nav.staff',
  title: 'staff',
  scopes: [],
  render(main) {
    main.append(heading('staff'), h('p', {}, 'Not built yet.'));
  },
};
