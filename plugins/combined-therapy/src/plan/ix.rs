//! Newtype indices and the tables they index: a `PracIx` cannot index the
//! rooms, and a table of one kind cannot be read with another's index.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// An index into a [`Table`].
pub(crate) trait Ix: Copy {
    /// The index of position `n`.
    fn at(n: usize) -> Self;
    /// The position.
    fn ix(self) -> usize;
}

macro_rules! ix {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(u32);

        impl Ix for $name {
            fn at(n: usize) -> $name {
                $name(u32::try_from(n).expect("fewer than 2^32 entries"))
            }
            fn ix(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

ix!(
    /// A practitioner of the request.
    PracIx,
    /// A room of the request.
    RoomIx,
    /// A group class of the request.
    ClassIx,
    /// A client (a care plan), in client-id order.
    ClientIx,
    /// A day of the horizon, 0 being its first.
    DayIx,
    /// A demand the planner tries to place (one session of one chain).
    ItemIx,
);

impl DayIx {
    /// The days from `from` up to, not including, `to`.
    pub(crate) fn span(from: DayIx, to: DayIx) -> impl DoubleEndedIterator<Item = DayIx> {
        (from.0..to.0).map(DayIx)
    }

    /// The day after.
    pub(crate) fn next(self) -> DayIx {
        DayIx(self.0 + 1)
    }
}

/// A vector read and written only with its own kind of index.
pub(crate) struct Table<I, T> {
    items: Vec<T>,
    _ix: PhantomData<fn(I) -> I>,
}

impl<I: Ix, T> Table<I, T> {
    /// A table of these values, the first at index 0.
    pub(crate) fn from_vec(items: Vec<T>) -> Table<I, T> {
        Table { items, _ix: PhantomData }
    }

    /// `n` copies of a value.
    pub(crate) fn filled(n: usize, value: T) -> Table<I, T>
    where
        T: Clone,
    {
        Table::from_vec(vec![value; n])
    }

    /// How many entries.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Every index, ascending.
    pub(crate) fn keys(&self) -> impl DoubleEndedIterator<Item = I> + use<I, T> {
        (0..self.items.len()).map(I::at)
    }

    /// Every entry with its index, ascending.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (I, &T)> {
        self.items.iter().enumerate().map(|(n, t)| (I::at(n), t))
    }

    /// Every value, by index.
    pub(crate) fn values(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// Every value, mutably.
    pub(crate) fn values_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    /// The values, by index.
    pub(crate) fn into_values(self) -> std::vec::IntoIter<T> {
        self.items.into_iter()
    }

    /// Appends a value; its index.
    pub(crate) fn push(&mut self, value: T) -> I {
        self.items.push(value);
        I::at(self.items.len() - 1)
    }
}

impl<I: Ix, T: Clone> Clone for Table<I, T> {
    fn clone(&self) -> Table<I, T> {
        Table::from_vec(self.items.clone())
    }
}

impl<I: Ix, T> FromIterator<T> for Table<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Table<I, T> {
        Table::from_vec(iter.into_iter().collect())
    }
}

impl<I: Ix, T> Index<I> for Table<I, T> {
    type Output = T;
    fn index(&self, i: I) -> &T {
        &self.items[i.ix()]
    }
}

impl<I: Ix, T> IndexMut<I> for Table<I, T> {
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.items[i.ix()]
    }
}
